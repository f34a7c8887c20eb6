print(Post.objects.update(status='archived'))
print(Post.objects.filter(status='archived').count())
