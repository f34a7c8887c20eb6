p = Profile.objects.first()
print(p.author.profile, p.born, type(p.score), p.score + 1)
