Author.objects.filter(nmae='x')
