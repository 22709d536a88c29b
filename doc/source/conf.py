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

"""Sphinx configuration of nova-zvm's documentation (tox -e docs)."""

import os
import sys

# Local extensions (blockdiag_compat).
sys.path.insert(0, os.path.abspath('_exts'))

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
    # Before the diagram extensions: it repairs what they need of Pillow.
    'blockdiag_compat',
    'sphinxcontrib.actdiag',
    'sphinxcontrib.blockdiag',
    'sphinxcontrib.seqdiag',
]

# oslo_config.sphinxconfiggen writes _static/nova-zvm.conf.sample from the
# code's options at every build.
config_generator_config_file = (
    '../../etc/oslo-config-generator/nova-zvm.conf')
sample_config_basename = '_static/nova-zvm'

# Diagrams are drawn at build time, offline, as inline SVG.
actdiag_html_image_format = 'SVG'
blockdiag_html_image_format = 'SVG'
seqdiag_html_image_format = 'SVG'
actdiag_antialias = True
blockdiag_antialias = True
seqdiag_antialias = True

# openstackdocstheme
openstackdocs_repo_name = 'x/nova-zvm'
openstackdocs_bug_project = 'nova-zvm'
openstackdocs_bug_tag = 'doc'
openstackdocs_auto_name = False
openstackdocs_use_storyboard = False

source_suffix = '.rst'
master_doc = 'index'

project = 'nova-zvm'
copyright = '2026, nova-zvm developers'

add_function_parentheses = True
add_module_names = True
pygments_style = 'native'
# Literal blocks are shell, logs or ini unless they say otherwise.
highlight_language = 'none'
exclude_patterns = ['_build']

html_theme = 'openstackdocs'
html_static_path = ['_static']
html_css_files = ['diagrams.css']

htmlhelp_basename = 'nova-zvmdoc'
