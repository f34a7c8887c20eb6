import datetime
print(Post.objects.filter(published__gte=datetime.datetime(2020, 1, 1, 0, 0)).count())
print(Profile.objects.filter(born__lt=datetime.date(2000, 1, 1)).exists())
