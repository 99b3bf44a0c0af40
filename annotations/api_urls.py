"""API routes of the annotations app; included under /api/ in the `api` namespace by config/urls.py."""

from django.urls import URLPattern, include, path
from rest_framework.routers import DefaultRouter

from annotations import api, jobs_api
from annotations.suggestions import api as suggestions_api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("topics", api.TopicViewSet, basename="topic")
router.register("comments", api.LabelledCommentViewSet, basename="comment")
router.register("articles", api.LabelledArticleViewSet, basename="article")
router.register("annotations", api.AnnotationViewSet, basename="annotation")


def item_routes() -> list[URLPattern]:
    """The label and gold routes of an item: a comment, or the article itself (the same views, the same rules)."""
    return [
        route
        for kind in ("comment", "article")
        for route in (
            path(
                f"{kind}s/<int:{kind}_id>/annotations/<slug:topic_slug>/",
                api.CommentLabelView.as_view(),
                name=f"{kind}-label",
            ),
            path(
                f"{kind}s/<int:{kind}_id>/gold/<slug:topic_slug>/", api.CommentGoldView.as_view(), name=f"{kind}-gold"
            ),
        )
    ]


urlpatterns = [
    *item_routes(),
    path("comments/<int:comment_id>/parent/", api.CommentParentView.as_view(), name="comment-parent"),
    # Before the router: "batch" is no annotation id.
    path("annotations/batch/", api.LabelBatchView.as_view(), name="label-batch"),
    path("threads/<int:comment_id>/", api.ThreadView.as_view(), name="thread"),
    path("agreement/", api.AgreementView.as_view(), name="agreement"),
    path("agreement/confusion/", api.ConfusionView.as_view(), name="agreement-confusion"),
    path("progress/", api.ProgressView.as_view(), name="progress"),
    path("distribution/", api.DistributionView.as_view(), name="distribution"),
    path("articles/<int:article_id>/stance-summary/", api.ArticleStanceSummaryView.as_view(), name="stance-summary"),
    path("assignment/", api.AssignmentSettingsView.as_view(), name="assignment"),
    path("assignment/summary/", api.AssignmentSummaryView.as_view(), name="assignment-summary"),
    path("assignment/annotators/<str:username>/", api.AnnotatorStatusView.as_view(), name="assignment-annotator"),
    path(
        "comments/<int:comment_id>/qualification/",
        api.QualificationItemView.as_view(),
        name="comment-qualification",
    ),
    path("topics/<slug:slug>/guidelines/", api.TopicGuidelinesView.as_view(), name="topic-guidelines"),
    path("models/", suggestions_api.SuggestionModelList.as_view(), name="models"),
    path("models/train/", suggestions_api.TrainSuggestionModels.as_view(), name="models-train"),
    path("suggestions/settings/", suggestions_api.SuggestionSettingsView.as_view(), name="suggestion-settings"),
    path("history/", api.ChangeEventList.as_view(), name="history"),
    path("export/annotations.jsonl", api.AnnotationExportJsonl.as_view(), name="export-annotations-jsonl"),
    path("export/annotations.csv", api.AnnotationExportCsv.as_view(), name="export-annotations-csv"),
    path("export/comments.jsonl", api.CommentExportJsonl.as_view(), name="export-comments-jsonl"),
    path("imports/", jobs_api.ImportListView.as_view(), name="imports"),
    path("imports/<int:pk>/", jobs_api.ImportDetailView.as_view(), name="import-detail"),
    path("releases/", jobs_api.ReleaseListView.as_view(), name="releases"),
    path("releases/<int:pk>/", jobs_api.ReleaseDetailView.as_view(), name="release-detail"),
    path("releases/<int:pk>/files/<str:name>", jobs_api.ReleaseFileView.as_view(), name="release-file"),
    path("", include(router.urls)),
]
