print(Post.objects.first().nothing)
