Author.objects.filter(name__icontains='a').delete()
