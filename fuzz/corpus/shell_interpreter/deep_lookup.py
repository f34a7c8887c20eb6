print(Comment.objects.filter(post__author__name__istartswith='a', parent__isnull=True))
print(Author.objects.filter(posts__comments__replies__body__contains='rep').distinct())
