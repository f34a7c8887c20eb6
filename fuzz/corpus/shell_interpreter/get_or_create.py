a, created = Author.objects.get_or_create(name='Zed', defaults={'email': 'z@example.com'})
print(a, created, a.email)
