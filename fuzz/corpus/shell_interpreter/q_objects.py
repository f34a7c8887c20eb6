from django.db.models import Q
print(Post.objects.filter(Q(status='draft') | ~Q(editor=None)).order_by('-id').values('id', 'title'))
print(Q(title='a') & Q(id=1), ~Q(status='x'))
