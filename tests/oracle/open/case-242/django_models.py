from django.db import models


class A(models.Model):
    name = models.CharField(max_length=50)
    fk_d = models.ForeignKey('D', on_delete=models.CASCADE, null=True, related_name='a_fk_d_set')
    fk_d_2 = models.ForeignKey('D', on_delete=models.CASCADE, null=True, related_name='a_fk_d_2_set')

    class Meta:
        app_label = 't'

    def __str__(self):
        return self.name


class B(models.Model):
    name = models.CharField(max_length=50)
    one_c = models.OneToOneField('C', on_delete=models.CASCADE, null=True)
    m2m_e = models.ManyToManyField('E')

    class Meta:
        app_label = 't'

    def __str__(self):
        return self.name


class C(models.Model):
    name = models.CharField(max_length=50)
    fk_b = models.ForeignKey('B', on_delete=models.DO_NOTHING)
    fk_e = models.ForeignKey('E', on_delete=models.CASCADE, null=True, related_name='c_fk_e_set')
    fk_e_2 = models.ForeignKey('E', on_delete=models.DO_NOTHING, null=True, related_name='c_fk_e_2_set')

    class Meta:
        app_label = 't'

    def __str__(self):
        return self.name


class D(models.Model):
    name = models.CharField(max_length=50)
    m2m_b = models.ManyToManyField('B')

    class Meta:
        app_label = 't'

    def __str__(self):
        return self.name


class E(models.Model):
    name = models.CharField(max_length=50)
    m2m_c = models.ManyToManyField('C')

    class Meta:
        app_label = 't'

    def __str__(self):
        return self.name

