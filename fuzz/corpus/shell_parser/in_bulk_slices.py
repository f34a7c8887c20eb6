print(Post.objects.in_bulk([1, 2]))
print(Post.objects.values_list('title', flat=True)[0:1], Post.objects.order_by('pk')[1])
