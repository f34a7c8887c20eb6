print(Author.objects.filter(reviews__stars__lt=3))
print(Author.objects.filter(name='Ann').delete(), Review.objects.count())
