print(Review.objects.all().delete())
print(Product.objects.filter(name='ink').hard_delete())
