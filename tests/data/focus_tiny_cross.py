# The tiny FoCus of focus_tiny.py tested on two demo-format test sets in one
# run (MultiDatasetTestLoop): its test_dataloader ('demo-test') and the
# demo val split as a second set ('demo-val', own evaluator, own prefix).
_base_ = ['./focus_tiny.py']
test_cfg = dict(
    type='MultiDatasetTestLoop',
    name='demo-test',
    extra=[
        dict(name='demo-val',
             dataset=dict(type='FaceForgeryDataset',
                          data_root='data/demo_faces', ann_file='val.json',
                          pipeline={{_base_.test_pipeline}}, test_mode=True),
             evaluator=[dict(type='ForgeryMetric', prefix='demo-val')],
             dataloader=dict(batch_size=3)),
    ])
