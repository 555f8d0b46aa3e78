# Copyright (c) mmfocus contributors.
"""HTML pieces of the experiment reports (map protocol, robustness):
sortable tables whose cells keep the full-precision number, filter
controls, inline PNG figures, and the page (``experiment.html``, package
data: layout, CSS, the JS of sorting and filtering, and the
Content-Security-Policy that forbids any network access).

Rows, cells and figures that a filter applies to carry ``data-f-<key>``
(space-separated values; ``*`` for always shown); the page's JS hides what
does not match the selected value of the ``<select id="f-<key>">`` and
keeps the selection in the URL fragment (``#source=ssim&region=sbi``).
"""
import base64
import datetime
import functools
import html
import importlib.resources
import math
import os.path as osp
import re
import string
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from mmfocus.evaluation.metrics.map_metric_columns import fmt

TEMPLATE = 'experiment.html'
esc = html.escape


@functools.lru_cache(maxsize=None)
def load_template(name: str = TEMPLATE) -> string.Template:
    """A page template of this package's data (read once): ``template.html``
    (the test report) or ``experiment.html`` (the experiment pages)."""
    text = importlib.resources.files(__package__).joinpath(name).read_text(
        encoding='utf-8')
    return string.Template(text)


def data_uri(img_bgr: np.ndarray, ext: str = '.jpg', quality: int = 88
             ) -> str:
    """Encode a BGR(A) uint8 image as a ``data:`` URI (JPEG, or PNG for
    ``.png``)."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == '.jpg' else []
    ok, buf = cv2.imencode(ext, img_bgr, params)
    if not ok:
        raise ValueError(f'could not encode a {img_bgr.shape} image as {ext}')
    mime = 'image/jpeg' if ext == '.jpg' else 'image/png'
    return f'data:{mime};base64,' + base64.b64encode(buf).decode('ascii')


def downscale(img: np.ndarray, max_px: int) -> np.ndarray:
    """``img`` with its longest side brought down to ``max_px`` (area
    interpolation); ``img`` itself when it is not larger."""
    h, w = img.shape[:2]
    s = max_px / max(h, w)
    if s >= 1:
        return img
    return cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))),
                      interpolation=cv2.INTER_AREA)


def num(value, digits: int, **attrs) -> dict:
    """A numeric cell: the formatted text, the full value in ``data-v``
    (the sort key)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)
    return dict(text=fmt(value, digits), v=repr(float(value)) if ok else
                None, attrs=attrs)


def txt(text: str, **attrs) -> dict:
    """A text cell (a label, a status such as ``n/a (not run)``)."""
    return dict(text=str(text), v=None, attrs=attrs)


Cell = Union[str, dict]


def _attrs(attrs: Optional[Dict[str, object]]) -> str:
    out = ''
    for k, v in (attrs or {}).items():
        if v is None or v is False:
            continue
        k = 'class' if k == 'cls' else k.replace('_', '-')
        out += f' {k}' if v is True else f' {k}="{esc(str(v))}"'
    return out


def table(id_: str, header: Sequence[Cell],
          rows: Iterable[Tuple[Sequence[Cell], Dict[str, object]]],
          cls: str = 'data sortable', label_col: bool = True) -> str:
    """A ``<table>``: ``header`` cells, then ``rows`` of ``(cells,
    row attributes)``; a cell is a string or :func:`num` / :func:`txt`.
    With ``label_col`` the first column is the row label (left-aligned);
    the others are right-aligned."""

    def cell(c, tag, first):
        c = txt(c) if isinstance(c, str) else c
        attrs = dict(c.get('attrs') or {})
        if c.get('v') is not None:
            attrs['data-v'] = c['v']
        klass = ' '.join(x for x in ('l' if first and label_col else '',
                                      attrs.pop('cls', '') or '') if x)
        attrs = dict({'class': klass or None}, **attrs)
        body = c.get('html') or esc(c['text'])
        return f'<{tag}{_attrs(attrs)}>{body}</{tag}>'

    head = ''.join(cell(c, 'th', i == 0) for i, c in enumerate(header))
    body = ''.join(
        f'<tr{_attrs(ra)}>' + ''.join(cell(c, 'td', i == 0)
                                      for i, c in enumerate(cells)) +
        '</tr>' for cells, ra in rows)
    return (f'<div class="scroll"><table class="{cls}" id="{esc(id_)}">'
            f'<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            '</div>')


def tok(value) -> str:
    """A filter value: whitespace replaced by ``_`` (values are
    space-separated in ``data-f-*``)."""
    return re.sub(r'\s+', '_', str(value))


def select(key: str, label: str, options: Sequence[Tuple[str, str]]) -> str:
    """A filter control ``<select id="f-<key>">``: ``all`` then
    ``(value, text)`` options."""
    opts = '<option value="all">all</option>' + ''.join(
        f'<option value="{esc(tok(v))}">{esc(t)}</option>'
        for v, t in options)
    return (f'<label>{esc(label)} <select id="f-{esc(key)}">{opts}'
            f'</select></label>')


def png_uri(img: np.ndarray, max_px: int) -> Tuple[str, Tuple[int, int],
                                                   bool]:
    """A BGR image as a PNG ``data:`` URI, its longest side downscaled to
    ``max_px`` (:func:`downscale`); returns ``(uri, (h, w), scaled)``."""
    small = downscale(img, max_px)
    return data_uri(small, '.png'), small.shape[:2], small is not img


def figure(img: np.ndarray, alt: str, caption_html: str, max_px: int,
           id_: str, attrs: Optional[Dict[str, object]] = None) -> str:
    """A ``<figure>`` with the image inline and its caption (the original
    size named when it was downscaled)."""
    uri, (h, w), scaled = png_uri(img, max_px)
    size = (f' (downscaled from {img.shape[1]}x{img.shape[0]} px)'
            if scaled else '')
    return (f'<figure class="sheet" id="{esc(id_)}"{_attrs(attrs)}>'
            f'<img alt="{esc(alt)}" width="{w}" height="{h}" src="{uri}">'
            f'<figcaption>{caption_html}{size}</figcaption></figure>')


def meta_list(items: Sequence[Tuple[str, Optional[str]]]) -> str:
    """A definition list of the run (``(name, html)``; None: left out)."""
    return '<dl class="run">' + ''.join(
        f'<dt>{esc(k)}</dt><dd>{v}</dd>' for k, v in items
        if v is not None) + '</dl>'


def code(text) -> str:
    return f'<code>{esc(str(text))}</code>'


def build_page(title: str, kind: str, work_dir: str,
               meta: Sequence[Tuple[str, Optional[str]]],
               filters: Sequence[Tuple[str, str, Sequence[Tuple[str, str]]]],
               sections: Sequence[Tuple[str, str, str]]) -> str:
    """The whole page: ``meta`` items, the filter controls (``(key,
    label, options)``) and ``sections`` ``(id, heading, html)``."""
    meta = list(meta) + [
        ('work dir', code(osp.abspath(work_dir))),
        ('made', esc(datetime.datetime.now().strftime('%Y-%m-%d %H:%M')))]
    nav = ' &middot; '.join(f'<a href="#{esc(i)}">{esc(h)}</a>'
                            for i, h, _ in sections)
    controls = ''.join(select(*f) for f in filters)
    if controls:
        controls = (f'<div id="controls">{controls}<span id="count"></span>'
                    f'</div>')
    body = ''.join(f'<section id="{esc(i)}"><h2>{esc(h)}</h2>{s}</section>'
                   for i, h, s in sections)
    return load_template(TEMPLATE).substitute(
        title=esc(title), kind=esc(kind), meta=meta_list(meta),
        filters=esc(' '.join(f[0] for f in filters)), nav=nav,
        controls=controls, body=body)


def note(text_html: str) -> str:
    return f'<p class="note">{text_html}</p>'


def spread(lo, hi, digits: int) -> dict:
    """An interval cell ``[lo, hi]`` (empty where there is none), sorted by
    its lower bound."""
    if lo is None or hi is None or not (math.isfinite(lo) and
                                       math.isfinite(hi)):
        return txt('')
    return dict(text=f'[{fmt(lo, digits)}, {fmt(hi, digits)}]',
                v=repr(float(lo)), attrs={})


def tokens(values: Iterable[str]) -> str:
    """``data-f-*`` value: the distinct values, space-separated."""
    out: List[str] = []
    for v in map(tok, values):
        if v not in out:
            out.append(v)
    return ' '.join(out) or '*'
