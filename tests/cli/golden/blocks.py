# Blocks as Python writes them, augmented assignment, comprehensions, f-strings, datetime
# arithmetic and transaction.atomic(), as `manage.py shell < blocks.py` runs them.
from blog.models import Author, Post, Comment, Tag
from django.db import transaction
from django.utils import timezone
from datetime import datetime, timedelta, date
ann = Author.objects.create(name="Ann")
bob = Author.objects.create(name="Bob")
for i in range(5):
    status = "draft" if i % 2 else "published"
    post = Post.objects.create(title=f"Post {i}", author=ann if i < 3 else bob, status=status)
    if i == 0:
        Comment.objects.create(post=post, body="first!")
    elif i == 4:
        post.tags.add(Tag.objects.create(name="last"))
    else:
        pass
print(Post.objects.count(), Comment.objects.count())
n = 0
for post in Post.objects.filter(status="draft"):
    n += 1
    print("deleting", post.title, post.delete())
print(n, Post.objects.count())
titles = [p.title for p in Post.objects.order_by("-id")]
print(titles)
print({p.id: p.status for p in Post.objects.all() if p.author_id == ann.id})
print(sum(p.id for p in Post.objects.all()), [(p.id, p.author.name) for p in Post.objects.order_by("id")])
print(f"{len(titles)} posts, first {titles[0]!r}, ids {[p.id for p in Post.objects.all()]}")
print(f"{n:>4}|{3.14159:.2f}|{1234567:,}|{n=}|{'x':*^5}|{255:#x}")
total = 0
i = 0
while i < 10:
    i += 1
    if i % 2:
        continue
    total += i
    if total > 10:
        break
else:
    print("not reached")
print(i, total)
with transaction.atomic():
    carl = Author.objects.create(name="Carl")
    Post.objects.create(title="In a block", author=carl)
print(Author.objects.count(), Post.objects.filter(author__name="Carl").count())
start = datetime(2026, 1, 31, 12, 30)
print(repr(start + timedelta(days=1, hours=12)), repr(start - timedelta(weeks=2)), start)
print(repr(timedelta(days=30)), timedelta(hours=36), repr(date(2026, 3, 1) - date(2026, 1, 1)))
print(repr(timedelta(minutes=-1)), timedelta(seconds=90) * 2, repr(start - datetime(2026, 1, 1)))
print(start > datetime(2026, 1, 1), timezone.now() > start - timedelta(days=36500))
x = 7
x *= 3
x -= 1
x //= 4
print(x, 1 if x > 4 else 0)
for post in Post.objects.filter(author=bob):
    for tag in post.tags.all():
        print(post.title, "tagged", tag.name)
if Post.objects.filter(title="nope").exists():
    print("unexpected")
elif Post.objects.count() > 2:
    print("several posts")
with transaction.atomic():
    Author.objects.create(name="Dan")
    Author.objects.get(name="nobody")
