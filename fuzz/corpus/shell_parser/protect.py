print(Product.objects.filter(name='ink').delete())
