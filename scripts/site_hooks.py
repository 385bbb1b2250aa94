"""mkdocs hooks of the companion site (scripts/build_site.py): on a notebook's page, the ids of the
headings are the anchors its table of contents links to.

mkdocs-jupyter slugs a heading one way for the table of contents (Python-Markdown's) and another
for the heading's id (nbconvert's): they differ for a heading with inline code or non-ASCII
words (every Chinese heading), and the contents then link to anchors that do not exist.
"""
import re

HEADING = re.compile(r'<h([1-6])([^>]*?) id="([^"]*)"')


def _anchors(toc):
    for item in toc:
        yield item.id
        yield from _anchors(item.children)


def on_page_content(html, page, config, files):
    if not page.file.src_path.endswith(".ipynb"):
        return html
    anchors = iter(list(_anchors(page.toc)))

    def rename(match):
        new = next(anchors, None)
        if new is None:
            return match.group(0)
        return f'<h{match.group(1)}{match.group(2)} id="{new}"'

    html = HEADING.sub(rename, html)
    # each heading's own pilcrow link follows its heading: point it at the new id
    return re.sub(r'(<h[1-6][^>]*? id="([^"]*)"[^>]*>(?:(?!</h[1-6]>).)*?<a class="anchor-link" href=")#[^"]*"',
                  lambda m: f'{m.group(1)}#{m.group(2)}"', html, flags=re.S)
