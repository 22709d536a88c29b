# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Uploads and downloads in chunks: a disk image never sits in memory."""

import io
import os

CHUNK_SIZE = 64 * 1024


class UploadBody(object):
    """The body of a ``PUT /files``: the file, read one chunk at a time.

    ``requests`` sends an iterable body chunk by chunk. When the size is
    known it is announced with Content-Length (``__len__``), since not every
    WSGI server reads a chunked request body (wsgiref does not; Apache
    mod_wsgi refuses it unless told otherwise); otherwise the body goes with
    ``Transfer-Encoding: chunked``.

    Each ``open()`` starts the file from its beginning again, so a call can
    be repeated (after a token refresh) when the source allows it: a path is
    reopened, a seekable file object rewound. A pipe can be read once only.
    """

    def __init__(self, path_or_fileobj, chunk_size=CHUNK_SIZE):
        self._chunk_size = chunk_size
        if isinstance(path_or_fileobj, (str, os.PathLike)):
            self._path = os.fspath(path_or_fileobj)
            self._fileobj = None
            self._start = 0
        else:
            self._path = None
            self._fileobj = path_or_fileobj
            self._start = _tell(path_or_fileobj)
        self._opened = 0

    def size(self):
        if self._path is not None:
            return os.path.getsize(self._path)
        if self._start is None:
            return None
        try:
            end = self._fileobj.seek(0, io.SEEK_END)
        finally:
            self._fileobj.seek(self._start)
        return end - self._start

    def can_repeat(self):
        return self._path is not None or self._start is not None

    def open(self):
        """A fresh iterable of the whole body, or None if it cannot be."""
        if self._opened and not self.can_repeat():
            return None
        self._opened += 1
        size = self.size()
        if size == 0:
            # Content-Length: 0 rather than an empty chunked body.
            return b''
        chunks = self._chunks()
        if size is None:
            return chunks
        return _Sized(chunks, size)

    def _chunks(self):
        if self._path is not None:
            with open(self._path, 'rb') as source:
                yield from _read_chunks(source, self._chunk_size)
        else:
            if self._start is not None:
                self._fileobj.seek(self._start)
            yield from _read_chunks(self._fileobj, self._chunk_size)


class _Sized(object):
    """An iterable with a length, so that ``requests`` sets Content-Length."""

    def __init__(self, chunks, size):
        self._chunks = chunks
        self._size = size

    def __iter__(self):
        return iter(self._chunks)

    def __len__(self):
        return self._size


def _tell(fileobj):
    try:
        if fileobj.seekable():
            return fileobj.tell()
    except (AttributeError, OSError, ValueError):
        pass
    return None


def _read_chunks(source, chunk_size):
    while True:
        chunk = source.read(chunk_size)
        if not chunk:
            return
        if isinstance(chunk, str):
            raise TypeError('file_import needs a binary file object')
        yield chunk


def save(response, dest_path, chunk_size=CHUNK_SIZE):
    """Write a streamed response body to ``dest_path``; return its size.

    The body goes to a temporary file next to ``dest_path`` that replaces it
    only when complete, so a broken download leaves no partial file behind.
    """
    partial = '%s.part' % dest_path
    written = 0
    try:
        # Guests' disks: readable by nova-compute only.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'wb') as target:
            for chunk in response.iter_content(chunk_size=chunk_size):
                target.write(chunk)
                written += len(chunk)
        os.replace(partial, dest_path)
    except BaseException:
        _remove_quietly(partial)
        raise
    finally:
        response.close()
    return written


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass
