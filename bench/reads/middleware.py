"""Counts each request's database queries into an `X-Bench-Queries` header (bench server only)."""

from django.db import connection


def count_queries(get_response):
    def middleware(request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = get_response(request)
            # Streaming bodies run their queries while they are read: count those too.
            if response.streaming:
                response.streaming_content = list(response.streaming_content)
        response["X-Bench-Queries"] = str(count)
        return response

    return middleware
