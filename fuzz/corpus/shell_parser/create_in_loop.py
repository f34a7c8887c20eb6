for i in range(5): Tag.objects.create(name='t' + str(i))
print(Tag.objects.filter(name__startswith='t').count())
