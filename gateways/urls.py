app_name = "gateways"

urlpatterns = []
