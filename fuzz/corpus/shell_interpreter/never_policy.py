print(Customer.objects.all().delete())
