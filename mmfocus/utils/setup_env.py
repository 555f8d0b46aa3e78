# Copyright (c) mmfocus contributors.
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmfocus module so that its classes are registered.

    Args:
        init_default_scope (bool): Make ``mmfocus`` the current default
            scope (a new, uniquely named instance if another scope is
            current). Defaults to True.
    """
    import mmfocus.datasets  # noqa: F401,F403
    import mmfocus.engine  # noqa: F401,F403
    import mmfocus.evaluation  # noqa: F401,F403
    import mmfocus.models  # noqa: F401,F403
    import mmfocus.visualization  # noqa: F401,F403

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    never_created = current is None or \
        not DefaultScope.check_instance_created('mmfocus')
    if never_created:
        DefaultScope.get_instance('mmfocus', scope_name='mmfocus')
        return
    if current.scope_name != 'mmfocus':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "mmfocus"; `register_all_modules` will force it '
                      'to "mmfocus".')
        name = f'mmfocus-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='mmfocus')
