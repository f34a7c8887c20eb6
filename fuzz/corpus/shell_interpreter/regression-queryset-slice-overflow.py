print(Post.objects.all()[9223372036854775807:])
