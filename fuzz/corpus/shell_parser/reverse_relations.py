ann = Author.objects.get(name='Ann')
print(ann.posts.count(), ann.edited_posts.all(), ann.mentees.all(), ann.profile)
print(ann.delete())
