import io
import json

from rest_framework.renderers import BaseRenderer

from aicmo_site.spreadsheets import csv_writer


class CSVRenderer(BaseRenderer):
    """Renders the table a report view names (`view.csv_table(data)` → header, rows) as CSV, so
    every report has its CSV beside it at ?format=csv. Errors stay in the API's JSON shape."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        response, view, request = context.get("response"), context.get("view"), context.get("request")
        # Only a report read is a table: an error, or the description OPTIONS answers, is written as it is.
        is_report = (hasattr(view, "csv_table") and (response is None or response.status_code < 400)
                     and (request is None or request.method in ("GET", "HEAD")))
        if not is_report:
            body = data if isinstance(data, dict) else {"message": data}
            header = list(body)
            rows = [[value if isinstance(value, str | int | float) else json.dumps(value, default=str)
                     for value in body.values()]]
        else:
            header, rows = view.csv_table(data)
            if response is not None:
                response["Content-Disposition"] = f'attachment; filename="{view.csv_filename}.csv"'
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow(header)
        writer.writerows(["n/a" if value is None else value for value in row] for row in rows)
        return out.getvalue().encode(self.charset)
