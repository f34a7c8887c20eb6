from django.db import models


class A(models.Model):
    name = models.CharField(max_length=50)
    fk_d = models.ForeignKey('D', on_delete=models.CASCADE, null=True)
    m2m_b = models.ManyToManyField('B')

    class Meta:
        app_label = 't'

    def __str__(self):
        return self.name


class B(models.Model):
    name = models.CharField(max_length=50)
    fk_a = models.ForeignKey('A', on_delete=models.CASCADE)
    m2m_d = models.ManyToManyField('D')

    class Meta:
        app_label = 't'

    def __str__(self):
        return self.name


class C(models.Model):
    name = models.CharField(max_length=50)
    fk_b = models.ForeignKey('B', on_delete=models.CASCADE, null=True)
    fk_c = models.ForeignKey('C', on_delete=models.DO_NOTHING, null=True)

    class Meta:
        app_label = 't'

    def __str__(self):
        return self.name


class D(models.Model):
    name = models.CharField(max_length=50)
    fk_b = models.ForeignKey('B', on_delete=models.SET_DEFAULT, default=1, related_name='d_fk_b_set')
    fk_b_2 = models.ForeignKey('B', on_delete=models.CASCADE, related_name='d_fk_b_2_set')
    m2m_b = models.ManyToManyField('B', related_name='d_m2m_b_set')

    class Meta:
        app_label = 't'

    def __str__(self):
        return self.name

