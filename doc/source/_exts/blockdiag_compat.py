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

"""Keep blockdiag 3.0 (and seqdiag, actdiag) working on Pillow 10 and later.

blockdiag measures text with Pillow APIs that Pillow 10 removed
(``ImageDraw.textsize``, ``FreeTypeFont.getsize``, ``Image.ANTIALIAS``)
and has had no release since. This extension puts equivalents built on
their replacements (``textbbox``, ``getbbox``, ``LANCZOS``) back, only where
they are missing, before the diagram extensions draw anything. List it
before the ``sphinxcontrib.*diag`` extensions.
"""

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont


def _size(bbox, font):
    # The removed APIs measured from the origin, with a line height that
    # does not depend on the text: keep that, or multi-line labels overlap.
    width, height = bbox[2], bbox[3]
    if hasattr(font, 'getmetrics'):
        ascent, descent = font.getmetrics()
        height = max(height, ascent + descent)
    return width, height


def _draw_textsize(self, text, font=None, *args, **kwargs):
    font = font or self.getfont()
    return _size(self.textbbox((0, 0), text, font=font), font)


def _font_getsize(self, text, *args, **kwargs):
    return _size(self.getbbox(text), self)


def setup(app):
    if not hasattr(ImageDraw.ImageDraw, 'textsize'):
        ImageDraw.ImageDraw.textsize = _draw_textsize
    for font_class in (ImageFont.FreeTypeFont, ImageFont.ImageFont):
        if not hasattr(font_class, 'getsize'):
            font_class.getsize = _font_getsize
    if not hasattr(Image, 'ANTIALIAS'):
        Image.ANTIALIAS = Image.LANCZOS
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
