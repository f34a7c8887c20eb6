o = Order.objects.get(number='A-1')
print(o.delete())
print(Order.objects.count(), Order.deleted_objects.count(), Order.all_objects.count())
print(Order.deleted_objects.all().restore(), OrderItem.objects.count())
