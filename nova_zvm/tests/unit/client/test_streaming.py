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

"""Uploads and downloads go in chunks, never whole (requests-mock side).

The same is checked against the real server in ``test_lab``.
"""

import hashlib
import io
import os
import tracemalloc

from nova_zvm import exception
from nova_zvm.tests.unit.client import base

FILES = base.URL + '/files'
CHUNK = 64 * 1024
SIZE = 8 * 1024 * 1024 + 12345  # many chunks, and a partial last one
# Far below SIZE: what is allowed to be in memory at once.
PEAK_LIMIT = 1024 * 1024


def write_random_file(path, size):
    digest = hashlib.sha256()
    with open(path, 'wb') as f:
        left = size
        while left:
            block = os.urandom(min(left, 1024 * 1024))
            f.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1024 * 1024), b''):
            digest.update(block)
    return digest.hexdigest()


def measure_peak(func, *args):
    """Run ``func``; return (its result, the peak of Python allocations)."""
    tracemalloc.start()
    try:
        result = func(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


class _Receiver(object):
    """A ``PUT /files`` that reads the body chunk by chunk, like the server.

    It keeps only a digest, so the peak memory measured is the client's.
    """

    def __init__(self):
        self.digest = hashlib.sha256()
        self.size = 0
        self.chunk_sizes = set()

    def __call__(self, request, context):
        body = request.body
        if body is None:
            chunks = []
        elif isinstance(body, bytes):
            chunks = [body]
        else:
            chunks = body
        for chunk in chunks:
            self.digest.update(chunk)
            self.size += len(chunk)
            self.chunk_sizes.add(len(chunk))
        return base.envelope({'dest_url': 'file:///var/lib/zvmsdk/files/u1',
                              'filesize_in_bytes': self.size})


class _Unseekable(io.RawIOBase):
    """A pipe: its size is unknown and it can be read once."""

    def __init__(self, data):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buf):
        chunk = self._data.read(len(buf))
        buf[:len(chunk)] = chunk
        return len(chunk)


class _BreaksOff(io.RawIOBase):
    """A download that fails after ``good`` bytes."""

    def __init__(self, good):
        self._left = good

    def readable(self):
        return True

    def readinto(self, buf):
        if self._left <= 0:
            raise ConnectionResetError(104, 'Connection reset by peer')
        n = min(len(buf), self._left)
        buf[:n] = b'x' * n
        self._left -= n
        return n


class UploadTestCase(base.MockedConnectorTestCase):

    def setUp(self):
        super().setUp()
        self.receiver = _Receiver()
        self.mock.put(FILES, json=self.receiver)

    def test_upload_of_a_path_streams_with_content_length(self):
        path = os.path.join(self.tmp, 'image.img')
        digest = write_random_file(path, SIZE)
        client = self.client()

        remote, peak = measure_peak(client.file_import, path)

        self.assertEqual('/var/lib/zvmsdk/files/u1', remote)
        self.assertEqual(SIZE, self.receiver.size)
        self.assertEqual(digest, self.receiver.digest.hexdigest())
        self.assertEqual({CHUNK, SIZE % CHUNK}, self.receiver.chunk_sizes)
        request = self.mock.last_request
        self.assertEqual(str(SIZE), request.headers['Content-Length'])
        self.assertEqual('application/octet-stream',
                         request.headers['Content-Type'])
        self.assertLess(peak, PEAK_LIMIT)

    def test_upload_of_a_file_object_starts_where_it_stands(self):
        data = os.urandom(3 * CHUNK)
        fileobj = io.BytesIO(data)
        fileobj.seek(100)

        self.client().file_import(fileobj)

        self.assertEqual(hashlib.sha256(data[100:]).hexdigest(),
                         self.receiver.digest.hexdigest())
        self.assertEqual(str(len(data) - 100),
                         self.mock.last_request.headers['Content-Length'])

    def test_upload_of_unknown_size_is_chunked(self):
        data = os.urandom(2 * CHUNK + 7)

        self.client().file_import(_Unseekable(data))

        self.assertEqual(hashlib.sha256(data).hexdigest(),
                         self.receiver.digest.hexdigest())
        self.assertEqual('chunked', self.mock.last_request.headers.get(
            'Transfer-Encoding'))

    def test_empty_upload(self):
        remote = self.client().file_import(io.BytesIO(b''))

        self.assertEqual('/var/lib/zvmsdk/files/u1', remote)
        self.assertEqual('0', self.mock.last_request.headers['Content-Length'])

    def test_upload_is_resent_after_a_token_refresh(self):
        path = os.path.join(self.tmp, 'image.img')
        digest = write_random_file(path, 3 * CHUNK)
        self.mock.put(FILES, [
            {'status_code': 401,
             'json': base.envelope(overall_rc=400, rc=400, rs=401)},
            {'json': self.receiver}])

        self.client().file_import(path)

        self.assertEqual(digest, self.receiver.digest.hexdigest())
        self.assertEqual(2, len(self.requests_to('/token')))

    def test_upload_that_cannot_be_resent_after_a_refusal(self):
        self.mock.put(FILES, [
            {'status_code': 401,
             'json': base.envelope(overall_rc=400, rc=400, rs=401)},
            {'json': self.receiver}])

        self.assertRaises(exception.Unauthorized, self.client().file_import,
                          _Unseekable(b'pipe data'))

        self.assertEqual(1, len(self.requests_to('/files')))
        # The token was refreshed, for the next call.
        self.assertEqual(2, len(self.requests_to('/token')))


class DownloadTestCase(base.MockedConnectorTestCase):

    def test_download_streams_to_disk(self):
        source = os.path.join(self.tmp, 'remote.img')
        digest = write_random_file(source, SIZE)
        dest = os.path.join(self.tmp, 'local.img')
        with open(source, 'rb') as body:
            self.mock.post(FILES, body=body,
                           headers={'Content-Type':
                                    'application/octet-stream'})
            client = self.client()

            result, peak = measure_peak(client.file_export,
                                        'file:///var/lib/zvmsdk/f1', dest)

        self.assertEqual({'filesize_in_bytes': SIZE, 'dest_url': dest},
                         result)
        self.assertEqual(digest, sha256_of(dest))
        self.assertEqual({'source_file': '/var/lib/zvmsdk/f1'},
                         self.mock.last_request.json())
        self.assertLess(peak, PEAK_LIMIT)
        self.assertEqual(['local.img', 'remote.img', 'token.dat'],
                         sorted(os.listdir(self.tmp)))

    def test_missing_file_is_an_error_and_writes_nothing(self):
        self.mock.post(FILES, status_code=500, json=base.envelope(
            overall_rc=300, rc=300, rs=2, errmsg='does not exist'))
        dest = os.path.join(self.tmp, 'local.img')

        err = self.assertRaises(exception.ZVMFailure,
                                self.client().file_export, '/nope', dest)

        self.assertEqual(('file_export', 2), (err.api, err.rs))
        self.assertFalse(os.path.exists(dest))

    def test_broken_download_leaves_no_file(self):
        self.mock.post(FILES, body=_BreaksOff(3 * CHUNK),
                       headers={'Content-Type': 'application/octet-stream'})
        dest = os.path.join(self.tmp, 'local.img')

        self.assertRaises(exception.ConnectionFailed,
                          self.client().file_export, '/f', dest)

        self.assertEqual(['token.dat'], os.listdir(self.tmp))
