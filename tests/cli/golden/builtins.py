# sorted(), dict() and isinstance() as Python's, and the methods' arities as Django's, as
# `manage.py shell < builtins.py` runs them.
from blog.models import Author, Post, Tag
from django.db.models import Q
from datetime import date, datetime, timedelta
for name in ["Cy", "Ann", "Bob"]:
    Author.objects.create(name=name)
names = list(Author.objects.values_list("name", flat=True))
print(names, sorted(names), sorted(names, reverse=True), names)
print(sorted(Author.objects.values_list("name", "id")), sorted("cab"), sorted({"b": 1, "a": 2}))
print(sorted([a.name for a in Author.objects.all()], key=len), sorted([2.5, 1, True]))
print(min([(2, 1), (1, 5)]), max([[1], [1, 0]]), (1, 2) < (1, 3), [1, 2] < [1])
by_name = dict(Author.objects.values_list("name", "id"))
print(by_name, dict(), dict(a=1), dict({"k": 1}, k=2), dict(["ab"]))
ann = Author.objects.get(name="Ann")
post = Post.objects.create(title="t", author=ann)
print(isinstance(ann, Author), isinstance(ann, Post), isinstance(post, (Author, Post)))
print(isinstance(1, int), isinstance(True, int), isinstance("x", str), isinstance([], list))
print(isinstance(Author.objects.all(), list), isinstance(Q(id=1), Q), isinstance(Author, type))
print(isinstance(datetime(2026, 1, 1), date), isinstance(date(2026, 1, 1), datetime), isinstance(timedelta(1), timedelta))
post.tags.add(Tag.objects.create(name="x"))
print(post.tags.count(), ann.posts.count(), Author.objects.filter(Q(name="Ann") | Q(name="Bob")).count())
Author.objects.count(1)
