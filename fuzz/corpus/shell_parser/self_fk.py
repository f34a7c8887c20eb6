bob = Author.objects.get(name='Bob')
bob.mentor = None
bob.save()
print(Author.objects.filter(mentor__isnull=True).count(), Comment.objects.filter(parent__body='first'))
