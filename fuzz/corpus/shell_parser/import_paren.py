from blog.models import (Author, Post as P,)
import datetime
