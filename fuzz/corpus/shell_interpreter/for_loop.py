for p in Post.objects.all(): print(p, p.author, p.editor, list(p.tags.all()))
