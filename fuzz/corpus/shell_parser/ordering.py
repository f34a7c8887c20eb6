print(Author.objects.order_by('mentor__name', '-pk')[:2], Author.objects.all()[0])
print(Post.objects.order_by('?').count())
