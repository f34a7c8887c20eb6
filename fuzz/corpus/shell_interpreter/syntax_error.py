print(Post.objects.filter(title='x')
