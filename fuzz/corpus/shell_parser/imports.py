from blog.models import *
from shop.models import Order as O, Customer
import datetime
from datetime import date
print(O.objects.all(), Customer.objects.count(), date(2024, 2, 29))
