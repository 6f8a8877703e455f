"""An upload handler that stops reading an uploaded file once it passes the import size limit.

It runs before Django's own handlers, so an oversized file is neither kept in memory nor written
to disk: the rest of its bytes are read from the connection and dropped, and the request records
what was refused (`request.refused_upload`) for the form to say so.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class ImportSizeLimitHandler(FileUploadHandler):
    """Refuses any uploaded file larger than settings.IMPORT_MAX_UPLOAD_BYTES, while it streams in."""

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received = start + len(raw_data)
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if self.received > limit:
            self.request.refused_upload = (self.file_name, limit)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None
