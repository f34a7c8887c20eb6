p = Post.objects.first()
p.title = 'Changed'
p.save()
p.refresh_from_db()
print(p.title, p.pk, p.author_id)
