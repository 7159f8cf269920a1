# This file is part of lieye_sales_site.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model.exceptions import AccessError, ValidationError


class InventoryError(ValidationError):
    pass


class TargetError(ValidationError):
    pass


class PersonError(ValidationError):
    pass


class DuplicateCustomerError(ValidationError):
    pass


class AnswerError(ValidationError):
    pass


class SubmissionError(ValidationError):
    pass


class RegistrationLockedError(AccessError):
    pass


class PersonIdentityLockedError(AccessError):
    pass


class ChangeRequestError(ValidationError):
    pass


class ChangeRequestAccessError(AccessError):
    pass


class ChangeValueError(ValidationError):
    pass


class ValueTypeError(ValidationError):
    pass


class FollowupError(ValidationError):
    pass


class ReviewError(ValidationError):
    pass


class ReviewLogError(AccessError):
    pass


class PolicyError(ValidationError):
    pass


class PolicyLockedError(AccessError):
    pass


class OwnershipError(AccessError):
    pass


class ClaimError(ValidationError):
    pass


class AssignmentError(ValidationError):
    pass


class MergeError(ValidationError):
    pass


class MergeLockedError(AccessError):
    pass


class MergeUndoError(ValidationError):
    pass
