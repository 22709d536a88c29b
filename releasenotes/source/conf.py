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

"""Sphinx configuration of nova-zvm's release notes (tox -e releasenotes)."""

extensions = [
    'openstackdocstheme',
    'reno.sphinxext',
]

openstackdocs_repo_name = 'x/nova-zvm'
openstackdocs_bug_project = 'nova-zvm'
openstackdocs_bug_tag = 'releasenotes'
openstackdocs_auto_name = False
openstackdocs_use_storyboard = False

source_suffix = '.rst'
master_doc = 'index'

project = 'nova-zvm Release Notes'
copyright = '2026, nova-zvm developers'

# Release notes are not versioned like the code.
version = ''
release = ''

exclude_patterns = []
pygments_style = 'native'

html_theme = 'openstackdocs'
htmlhelp_basename = 'nova-zvmReleaseNotesdoc'

# Internationalization
locale_dirs = ['locale/']
