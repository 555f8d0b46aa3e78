"""The app in a real headless browser: Debian's chromium driven by Selenium
through Debian's chromedriver (``bash .dev_scripts/setup_browser.sh``
installs both). The app runs on a free loopback port
(``python -m mmfocus.app``); the test uploads files the way a user does
(the file input), waits for the page, reads what it shows and checks it
against the inferencer run in this process. (The docs' screenshot is
made by ``.dev_scripts/app_screenshot.py``.)
"""
import importlib.util
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from app_helpers import DEMO, FACE

CHROMIUM = os.environ.get('MMFOCUS_CHROMIUM') or shutil.which('chromium') \
    or shutil.which('chromium-browser')
DRIVER = os.environ.get('MMFOCUS_CHROMEDRIVER') or shutil.which(
    'chromedriver')
NO_SELENIUM = None if importlib.util.find_spec('selenium') else \
    'selenium is not installed (requirements/tests.txt)'
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None or NO_SELENIUM is not None,
    reason='headless-browser test: needs chromium, chromedriver and '
    f'selenium (chromium={CHROMIUM}, chromedriver={DRIVER}, selenium: '
    f'{NO_SELENIUM or "ok"}); install them with `bash '
    '.dev_scripts/setup_browser.sh` as root, or set MMFOCUS_CHROMIUM / '
    'MMFOCUS_CHROMEDRIVER')


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp('chromium_profile')
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu',
              '--disable-quic', '--no-first-run',
              '--disable-background-networking',
              '--disable-component-update', '--disable-sync',
              f'--user-data-dir={profile}', '--window-size=1200,1500'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    # the local driver: Selenium Manager never runs (no download)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def state(driver):
    return driver.find_element('tag name', 'body').get_attribute('data-state')


def wait_state(driver, states, timeout=120):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout, poll_frequency=0.1).until(
        lambda d: state(d) in states)
    return state(driver)


def console(driver):
    """The page's console messages and failed loads since the last call."""
    return [e['message'] for e in driver.get_log('browser')]


def pick_file(driver, path):
    driver.find_element('id', 'file').send_keys(str(path))


def element_png(driver, element_id=None, element=None):
    el = element or driver.find_element('id', element_id)
    img = cv2.imdecode(np.frombuffer(el.screenshot_as_png, np.uint8),
                       cv2.IMREAD_COLOR)
    assert img is not None
    return img


def test_upload_a_face_and_see_its_map(app, browser, reference, tmp_path):
    d = browser
    d.get(app.url)
    assert wait_state(d, ('idle', 'error')) == 'idle'
    assert 'device: cpu' in d.find_element('id', 'model').text
    assert len(d.find_elements('css selector', '#demo button')) >= 10
    pick_file(d, osp.join(DEMO, FACE))
    assert wait_state(d, ('done', 'error')) == 'done'
    assert console(d) == []
    [ref] = reference(osp.join(DEMO, FACE))
    score = d.find_element('id', 'score')
    assert score.text == f'{ref["score"]:.3f}'
    assert float(score.get_attribute('data-score')) == pytest.approx(
        ref['score'], abs=1e-5)
    cards = d.find_elements('css selector', '#faces figure.face')
    assert sorted(float(c.get_attribute('data-score')) for c in cards) == \
        pytest.approx(sorted(f['score'] for f in ref['faces']), abs=1e-5)
    assert len(d.find_elements('css selector', '#scene-boxes rect.box')) == 2

    # the overlay is not blank: the map over the face differs from the face
    face_map = cards[0].find_element('css selector', '.face-map')
    assert face_map.get_attribute('src').startswith('data:image/jpeg')
    plain = element_png(d, element=cards[0].find_element(
        'css selector', 'img.plain'))
    over = element_png(d, element=cards[0].find_element(
        'css selector', '.stack'))
    assert over.std() > 10 and np.abs(
        over.astype(int) - plain.astype(int)).mean() > 10
    # the opacity slider: 0 % shows the bare face, 100 % the bare map
    d.execute_script("const s = document.getElementById('opacity');"
                     "s.value = 0; s.dispatchEvent(new Event('input'));")
    assert face_map.value_of_css_property('opacity') == '0'
    assert d.find_element('id', 'opacity-value').text == '0 %'
    bare = element_png(d, element=cards[0].find_element('css selector',
                                                          '.stack'))
    assert np.abs(bare.astype(int) - plain.astype(int)).mean() < 3
    d.execute_script("const s = document.getElementById('opacity');"
                     "s.value = 100; s.dispatchEvent(new Event('input'));")
    assert face_map.value_of_css_property('opacity') == '1'
    # the map kind: the demo model's maps are class posteriors, so its
    # manipulation map is the Eq. 9 fake-evidence map; the page says so
    # and offers one kind
    assert all(np.array_equal(f['map'], f['map_fake']) for f in ref['faces'])
    radio = d.find_element('css selector',
                           'input[name=mapkind][value=map_fake]')
    assert not radio.is_enabled()
    assert d.find_element('id', 'maps-note').is_displayed()
    d.execute_script("const s = document.getElementById('opacity');"
                     "s.value = 50; s.dispatchEvent(new Event('input'));")
    shot = tmp_path / 'app.png'
    d.save_screenshot(str(shot))
    img = cv2.imread(str(shot))
    assert img is not None and img.std() > 20
    assert console(d) == []


def test_bad_uploads_get_a_message(app, browser, tmp_path):
    d = browser
    d.get(app.url)
    wait_state(d, ('idle', ))
    bad = tmp_path / 'holiday.jpg'
    bad.write_bytes(b'this is not a JPEG' * 20)
    pick_file(d, bad)
    assert wait_state(d, ('done', 'error')) == 'error'
    err = d.find_element('id', 'error')
    assert err.is_displayed()
    assert err.text == 'not an image or corrupt image file: holiday.jpg'
    assert d.find_element('id', 'result').is_displayed() is False
    # refused in the page before any upload: type and size
    txt = tmp_path / 'notes.txt'
    txt.write_text('hello')
    pick_file(d, txt)
    assert wait_state(d, ('error', )) == 'error'
    assert err.text.startswith('notes.txt: not a file type this app takes')
    big = tmp_path / 'big.png'
    big.write_bytes(os.urandom(int(1.2 * 2**20)))
    pick_file(d, big)
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(d, 30).until(lambda _: 'larger than' in err.text)
    assert err.text.startswith('big.png is larger than the upload limit '
                               'of 1 MB')
    # a good file afterwards clears the message
    d.find_element('css selector', f'#demo button[data-name="{FACE}"]'
                   ).click()
    assert wait_state(d, ('done', 'error')) == 'done'
    assert not err.is_displayed()
    # the page's own console stays clean (the rejected job answered JSON)
    assert console(d) == []


def test_video_score_curve(app, browser, clips, reference):
    d = browser
    d.get(app.url)
    wait_state(d, ('idle', ))
    pick_file(d, clips['ok'])
    assert wait_state(d, ('done', 'error')) == 'done'
    [ref] = reference(clips['ok'], video_stride=3, max_frames=8)
    assert d.find_element('id', 'score').text == f'{ref["score"]:.3f}'
    assert d.find_element('id', 'curve-box').is_displayed()
    dots = d.find_elements('css selector', '#curve circle.frame')
    assert [float(c.get_attribute('data-score')) for c in dots] == \
        pytest.approx([f['score'] for f in ref['frames']], abs=1e-5)
    assert len(d.find_elements('css selector', '#curve polyline.scores')) \
        == 1
    assert 'the most fake frame' in d.find_element('id',
                                                   'scene-caption').text
    progress = d.find_element('id', 'progress').text
    assert progress.startswith('two seconds.mp4: done in') and \
        'frames/s' in progress
    assert console(d) == []


@pytest.fixture(scope='module')
def app_minmax(tmp_path_factory):
    """The demo model with Eq. 4 min-max maps (``--cfg-options``): its
    manipulation map (predicted class) and its Eq. 9 map differ."""
    from app_helpers import start_app
    a = start_app(tmp_path_factory.mktemp('app_minmax'),
                  ['--cfg-options', 'model.map_norm=minmax'])
    yield a
    a.stop()


def test_map_kind_switch(app_minmax, browser):
    d = browser
    d.get(app_minmax.url)
    wait_state(d, ('idle', ))
    d.find_element('css selector', f'#demo button[data-name="{FACE}"]'
                   ).click()
    assert wait_state(d, ('done', 'error')) == 'done'
    radio = d.find_element('css selector',
                           'input[name=mapkind][value=map_fake]')
    assert radio.is_enabled()
    assert not d.find_element('id', 'maps-note').is_displayed()
    face_map = d.find_element('css selector', '#faces .face-map')
    before = face_map.get_attribute('src')
    layer = d.find_element('id', 'scene-layer').get_attribute('src')
    radio.click()
    assert face_map.get_attribute('src') != before
    assert d.find_element('id', 'scene-layer').get_attribute('src') != layer
    d.find_element('css selector', 'input[name=mapkind][value=map]').click()
    assert face_map.get_attribute('src') == before
    assert console(d) == []
