print(Customer.objects.get(name='Eve').hard_delete())
