from crm import data_urls

app_name = "crm"

urlpatterns = [*data_urls.urlpatterns]
