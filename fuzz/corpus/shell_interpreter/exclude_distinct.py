print(Post.objects.exclude(tags__name='orm').distinct(), Tag.objects.exclude(posts=None))
