Author.objects.get(name='Nobody')
print('never printed')
