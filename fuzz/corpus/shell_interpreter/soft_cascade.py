print(OrderItem.objects.filter(order__customer__name='Eve').delete())
print(Product.objects.filter(name='pen').delete(), OrderItem.deleted_objects.values('order_id'))
