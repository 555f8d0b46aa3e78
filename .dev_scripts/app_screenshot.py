"""The screenshot of docs/en/user_guides/app.md: the app with its default
limits and the demo model, one demo photo analysed, in headless Chromium.

    .venv/bin/python .dev_scripts/app_screenshot.py [out.jpg]

Needs chromium + chromedriver (bash .dev_scripts/setup_browser.sh).
"""
import os.path as osp
import sys
import tempfile

import cv2

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'tests', 'test_app'))
from app_helpers import start_app  # noqa: E402


def main(out=osp.join(ROOT, 'docs', 'en', 'user_guides', 'images',
                      'app.jpg'), photo='2008_001009.jpg'):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
    app = start_app(tempfile.mkdtemp(), [
        '--max-upload-mb', '50', '--max-video-seconds', '60',
        '--max-video-frames', '64'])  # the defaults, over the tests' limits
    opts = webdriver.ChromeOptions()
    opts.binary_location = '/usr/bin/chromium'
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu',
              '--disable-background-networking', '--window-size=1100,1180',
              '--hide-scrollbars'):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service('/usr/bin/chromedriver'),
                         options=opts)
    try:
        d.get(app.url)

        def state(drv):
            return drv.find_element('tag name',
                                    'body').get_attribute('data-state')

        WebDriverWait(d, 60).until(lambda drv: state(drv) == 'idle')
        d.find_element('css selector',
                       f'#demo button[data-name="{photo}"]').click()
        WebDriverWait(d, 60).until(lambda drv: state(drv) == 'done')
        png = osp.join(tempfile.mkdtemp(), 'app.png')
        d.save_screenshot(png)
    finally:
        d.quit()
        app.stop()
    cv2.imwrite(out, cv2.imread(png), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f'screenshot written: {out}')


if __name__ == '__main__':
    main(*sys.argv[1:])
