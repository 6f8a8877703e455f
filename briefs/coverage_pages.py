"""The coverage check on the reader pages: staff check an order from a code's brief page."""

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.http import Http404
from django.views.generic import FormView

from briefs.choices import AssertionChannel
from briefs.coverage_check import assert_coverage
from briefs.coverage_facts import CoverageInputError, normalise_code
from briefs.coverage_forms import CoverageCheckForm
from codes.models import BillingCode


class CoverageCheckPageView(LoginRequiredMixin, UserPassesTestMixin, FormView):
    """Check an order for the code with the same service the API uses; the answer is recorded."""

    template_name = "briefs/coverage_check.html"
    form_class = CoverageCheckForm

    def test_func(self):
        return self.request.user.is_staff

    def dispatch(self, request, *args, code: str, **kwargs):
        self.code = BillingCode.objects.filter(code=normalise_code(code)).first()
        if self.code is None:
            raise Http404(f"No billing code {code}.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "code": self.code.code}

    def form_valid(self, form):
        try:
            _, answer = assert_coverage(
                form.question(),
                channel=AssertionChannel.PAGE,
                request_data={key: str(value) for key, value in form.cleaned_data.items()},
                user=self.request.user,
            )
        except CoverageInputError as error:
            form.refuse(error)
            return self.form_invalid(form)
        return self.render_to_response(self.get_context_data(form=form, answer=answer))

    def get_context_data(self, **kwargs):
        return super().get_context_data(code=self.code, **kwargs)
