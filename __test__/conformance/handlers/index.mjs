// Every callable of the conformance templates, mapped to its handler, for
// worker.register({...}). Class-style templates get classes, the _dsl ones
// functions.
import * as batch from './batch_processing.mjs';
import * as batchDsl from './batch_processing_dsl.mjs';
import * as checkpoints from './checkpoint_yield.mjs';
import * as checkpointsDsl from './checkpoint_yield_dsl.mjs';
import * as approval from './conditional_approval.mjs';
import * as approvalDsl from './conditional_approval_dsl.mjs';
import * as resolvers from './resolver_tests.mjs';
import * as resolversDsl from './resolver_tests_dsl.mjs';
import * as flows from './workflows.mjs';

export const conformanceHandlers = {
  'batch_processing.step_handlers.CsvAnalyzerHandler': batch.CsvAnalyzerHandler,
  'batch_processing.step_handlers.CsvBatchProcessorHandler': batch.CsvBatchProcessorHandler,
  'batch_processing.step_handlers.CsvResultsAggregatorHandler': batch.CsvResultsAggregatorHandler,
  'batch_processing_dsl.step_handlers.CsvAnalyzerDslHandler': batchDsl.analyzeCsv,
  'batch_processing_dsl.step_handlers.CsvBatchProcessorDslHandler': batchDsl.processCsvBatch,
  'batch_processing_dsl.step_handlers.CsvResultsAggregatorDslHandler': batchDsl.aggregateCsvResults,

  'checkpoint_yield.step_handlers.CheckpointYieldAnalyzerHandler': checkpoints.CheckpointYieldAnalyzerHandler,
  'checkpoint_yield.step_handlers.CheckpointYieldWorkerHandler': checkpoints.CheckpointYieldWorkerHandler,
  'checkpoint_yield.step_handlers.CheckpointYieldAggregatorHandler': checkpoints.CheckpointYieldAggregatorHandler,
  'checkpoint_yield_dsl.step_handlers.CheckpointYieldAnalyzerDslHandler': checkpointsDsl.analyzeItems,
  'checkpoint_yield_dsl.step_handlers.CheckpointYieldWorkerDslHandler': checkpointsDsl.checkpointYieldBatch,
  'checkpoint_yield_dsl.step_handlers.CheckpointYieldAggregatorDslHandler': checkpointsDsl.aggregateResults,

  'conditional_approval.step_handlers.ValidateRequestHandler': approval.ValidateRequestHandler,
  'conditional_approval.step_handlers.RoutingDecisionHandler': approval.RoutingDecisionHandler,
  'conditional_approval.step_handlers.AutoApproveHandler': approval.ApprovalHandler,
  'conditional_approval.step_handlers.ManagerApprovalHandler': approval.ApprovalHandler,
  'conditional_approval.step_handlers.FinanceReviewHandler': approval.ApprovalHandler,
  'conditional_approval.step_handlers.FinalizeApprovalHandler': approval.FinalizeApprovalHandler,
  'conditional_approval_dsl.step_handlers.ValidateRequestDslHandler': approvalDsl.validateRequest,
  'conditional_approval_dsl.step_handlers.RoutingDecisionDslHandler': approvalDsl.routingDecision,
  'conditional_approval_dsl.step_handlers.AutoApproveDslHandler': approvalDsl.approve,
  'conditional_approval_dsl.step_handlers.ManagerApprovalDslHandler': approvalDsl.approve,
  'conditional_approval_dsl.step_handlers.FinanceReviewDslHandler': approvalDsl.approve,
  'conditional_approval_dsl.step_handlers.FinalizeApprovalDslHandler': approvalDsl.finalizeApproval,

  'ResolverTests.StepHandlers.MultiMethodHandler': resolvers.MultiMethodHandler,
  'ResolverTests.StepHandlers.AlternateMethodHandler': resolvers.AlternateMethodHandler,
  'ResolverTestsDsl.StepHandlers.MultiMethodValidateDslHandler': resolversDsl.validate,
  'ResolverTestsDsl.StepHandlers.MultiMethodProcessDslHandler': resolversDsl.processAmount,
  'ResolverTestsDsl.StepHandlers.MultiMethodRefundDslHandler': resolversDsl.refund,
  'ResolverTestsDsl.StepHandlers.MultiMethodDslHandler': resolversDsl.multiMethod,
  'ResolverTestsDsl.StepHandlers.AlternateMethodExecuteActionDslHandler': resolversDsl.executeAction,

  'LinearWorkflow.StepHandlers.LinearStep1Handler': flows.LinearStepHandler,
  'LinearWorkflow.StepHandlers.LinearStep2Handler': flows.LinearStepHandler,
  'LinearWorkflow.StepHandlers.LinearStep3Handler': flows.LinearStepHandler,
  'LinearWorkflow.StepHandlers.LinearStep4Handler': flows.LinearStepHandler,
  'diamond_workflow_dsl.step_handlers.DiamondStartDslHandler': flows.diamondStart,
  'diamond_workflow_dsl.step_handlers.DiamondBranchBDslHandler': flows.diamondBranch,
  'diamond_workflow_dsl.step_handlers.DiamondBranchCDslHandler': flows.diamondBranch,
  'diamond_workflow_dsl.step_handlers.DiamondEndDslHandler': flows.diamondEnd,
  'TestScenarios.StepHandlers.SuccessStepHandler': flows.succeed,
  'test_errors.step_handlers.PermanentErrorHandler': flows.failPermanently,
  'test_errors.step_handlers.RetryableErrorHandler': flows.failTransiently,
};
