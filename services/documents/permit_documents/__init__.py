"""The documents bounded context: uploads with limits and format checks, blobs in object storage."""
