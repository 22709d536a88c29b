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

"""Image calls, and moving files to and from the connector's host."""

from nova_zvm.client import base
from nova_zvm.client import envelope
from nova_zvm.client import streaming
from nova_zvm.client import validate
from nova_zvm import exception

_FILE_SCHEME = 'file://'


class ImageAPI(base.APIBase):

    def image_import(self, image_name, url, image_meta, remote_host=None):
        """Import an image from ``url`` into the connector's repository.

        ``url`` is ``file://`` (e.g. from ``file_import``) or, with
        ``remote_host``, a path the connector reaches by scp.
        """
        api = 'image_import'
        image = {'image_name': validate.image_name(api, image_name),
                 'url': url, 'image_meta': image_meta}
        image.update(base.given(remote_host=remote_host))
        return self._call(api, 'POST', '/images', json_body={'image': image},
                          long_running=True)

    def image_query(self, imagename=None):
        api = 'image_query'
        params = None
        if imagename is not None:
            params = {'imagename': validate.image_name(api, imagename)}
        return self._call(api, 'GET', '/images', params=params)

    def image_delete(self, image_name):
        api = 'image_delete'
        return self._call(api, 'DELETE', self._image_path(api, image_name))

    def image_export(self, image_name, dest_url, remote_host=None):
        api = 'image_export'
        location = {'dest_url': dest_url}
        location.update(base.given(remote_host=remote_host))
        return self._call(api, 'PUT', self._image_path(api, image_name),
                          json_body={'location': location},
                          long_running=True)

    def image_get_root_disk_size(self, image_name):
        api = 'image_get_root_disk_size'
        return self._call(api, 'GET', self._image_path(api, image_name,
                                                       'root_disk_size'))

    def file_import(self, path_or_fileobj):
        """Upload a file (a path or a binary file object) in chunks.

        :returns: the file's path on the connector's host; ``'file://'`` +
            this path is what ``image_import`` and ``image_export`` take.
        """
        api = 'file_import'
        upload = streaming.UploadBody(path_or_fileobj,
                                      chunk_size=self._chunk_size)
        response = self._transport.request(api, 'PUT', '/files',
                                           upload=upload, long_running=True)
        try:
            output = envelope.output_of(api, response)
        finally:
            response.close()
        dest_url = (output or {}).get('dest_url') or ''
        if not dest_url.startswith(_FILE_SCHEME):
            raise exception.ZVMFailure(
                errmsg='the connector stored the upload at an unexpected '
                       'place: %r' % dest_url, api=api,
                status=response.status_code)
        return dest_url[len(_FILE_SCHEME):]

    def file_export(self, connector_path, dest_path):
        """Download a file of the connector's host, in chunks.

        :param connector_path: a path (or ``file://`` URL) on the connector
        :returns: ``{'filesize_in_bytes': n, 'dest_url': dest_path}``
        """
        api = 'file_export'
        if connector_path.startswith(_FILE_SCHEME):
            connector_path = connector_path[len(_FILE_SCHEME):]
        response = self._transport.request(
            api, 'POST', '/files', json_body={'source_file': connector_path},
            long_running=True, stream=True)
        content_type = response.headers.get('Content-Type', '')
        if (response.status_code != 200 or
                'application/octet-stream' not in content_type):
            try:
                envelope.output_of(api, response)
            finally:
                response.close()
            # A JSON success here would be a connector that did not send
            # the file at all.
            raise exception.ZVMFailure(
                errmsg='the connector did not send the file', api=api,
                status=response.status_code)
        size = self._transport.download(api, response, dest_path,
                                        self._chunk_size)
        return {'filesize_in_bytes': size, 'dest_url': dest_path}

    def _image_path(self, api, image_name, *rest):
        return base.path('images', validate.image_name(api, image_name),
                         *rest)
